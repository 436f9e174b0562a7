"""Run folders: saving and loading them (`store`), listing them (`listing`), and reading a
run's dataset and split back (`data`)."""
