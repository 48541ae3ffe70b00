"""Storage: SQLModel tables, the engine, and the functions that read and write them."""
