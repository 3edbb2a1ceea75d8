"""Reading the user's project: TOML files, the package's pyproject.toml, Cargo manifests, and
the version the package is built with."""
