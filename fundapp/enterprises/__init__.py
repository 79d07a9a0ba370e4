"""Community social enterprises: agreements, revenue reports and the share that flows back into community funds."""
