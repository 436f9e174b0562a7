"""Quality benchmarks: ranking accuracy, diversity and the paired comparisons behind defaults."""
