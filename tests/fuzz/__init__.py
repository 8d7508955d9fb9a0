"""Property-based fuzzing of the whole bot: generated Telegram updates through the real
Application, checked for unhandled exceptions and database invariants."""
