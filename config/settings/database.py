from config.env import env_str, parse_database_url, sqlite_database, var_dir

DATABASE_URL = env_str("DATABASE_URL")

DATABASES = {"default": parse_database_url(DATABASE_URL) if DATABASE_URL else sqlite_database(var_dir() / "db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
