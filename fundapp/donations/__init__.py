"""Donors, donations, pledges, corrections and official receipts (公益事业捐赠票据)."""
