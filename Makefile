.PHONY: studio test setup lint

studio:   ## set up and launch the dashboard on the synthetic shop
	./scripts/studio.sh

test:     ## set up and run the whole test suite
	./scripts/test.sh

setup:
	./scripts/setup.sh

lint:
	.venv/bin/ruff check .
