"""Certification status rules: pure functions of records and today's date."""
