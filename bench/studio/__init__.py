"""Studio benchmarks: the studio's speed, server-side and in a real Chromium."""
