.PHONY: studio test test-min setup lint

studio:   ## set up and launch the dashboard on the synthetic shop
	./scripts/studio.sh

test:     ## set up and run the whole test suite
	./scripts/test.sh

test-min: ## re-rankers, metrics and data tests on the declared minimum versions (.venv-min)
	./scripts/test-min.sh

setup:
	./scripts/setup.sh

lint:
	.venv/bin/ruff check .
