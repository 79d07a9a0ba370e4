"""Statutory ratios (2016 rules on charitable spending and management costs) and the compliance calendar."""
