"""The public disclosure site (/public) and its data: what donors and the public see, computed from the ledger.

Scope rules (`scope.py`): detail lists show public funds only; aggregates (totals, statements, ratios) cover every
fund, so they equal the statements, and a hidden fund appears only inside "other funds". Donors who asked are shown
as 匿名. Pages are cached per process and keyed on the data version (`cache.py`).
"""
