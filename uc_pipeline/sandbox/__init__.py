"""Local emulators of the provider APIs, with seeded synthetic data and fault injection."""
