"""Grant-making: programmes, applications, review, board decisions, awards, payments and reports."""
