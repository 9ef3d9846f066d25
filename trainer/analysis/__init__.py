"""Quiz item analysis: statistics over graded attempts, with no Flask and no database."""
