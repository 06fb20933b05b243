"""SQL migrations, one file per projection version (`<name>_v<version>.sql`)."""
