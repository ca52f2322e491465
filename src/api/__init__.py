"""REST API over the same services as the dashboard (FastAPI). Start with ``python -m src.api``."""
