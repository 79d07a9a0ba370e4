"""Financial statements in the 民间非营利组织会计制度 layout: balance sheet, activities, cash flows."""
