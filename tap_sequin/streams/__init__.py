"""The SDK streams: what each stream emits, in which order, and when soft deletes are safe."""
