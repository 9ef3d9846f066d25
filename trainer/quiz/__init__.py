"""Question types, drawing and grading: pure functions, no Flask and no database."""
