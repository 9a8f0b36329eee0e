"""Reports: official figures (titles from the register) with their denominators, and
computed attainment beside them under its own name."""
