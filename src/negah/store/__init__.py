"""The store: canonical tables in an embedded DuckDB file, a database, or a folder of files."""

from negah.store.connect import Store, open_store
from negah.store.folder import open_folder

__all__ = ["Store", "open_store", "open_folder"]
