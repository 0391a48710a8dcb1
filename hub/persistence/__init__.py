"""Database access by area; every function takes the session and keyword-only arguments
and never commits (services own the transaction)."""
