"""olist-harness: what the project's tests and benchmarks need and users never run — the synthetic Olist
sample and scale generators, synthetic customer_features marts, and the fault-injection scenarios."""
