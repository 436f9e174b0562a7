"""Core pieces every layer uses: errors, paths, column names, configs, files, devices."""
