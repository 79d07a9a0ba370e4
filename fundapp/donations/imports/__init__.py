"""Bulk import of donations from CSV and Excel files (the format is described in README.md, "Importing donations").

    reading.py   the file into a header and raw rows (encodings, CSV or .xlsx, the column names)
    cells.py     one cell into one value, or a message saying why not
    checking.py  every row checked against the books, writing nothing: the problems and the plan
    posting.py   the plan posted: journal entries through the ledger's bulk path, donation rows, audit events
    batches.py   an upload's life: kept file, check (the preview), import, failure; and the command line's import
    views.py     the pages (upload, preview with progress, JSON status) on the donations blueprint
"""
