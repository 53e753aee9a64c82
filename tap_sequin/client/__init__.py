"""The Sequin API client: authentication, retries, pacing, concurrency and the deadline.

``api.SequinClient`` is the one way to reach the API; ``judging`` says what each answer
means; ``session`` bounds every attempt; ``throttle`` paces them; ``fetch`` runs many
concurrently and hands them back in order; ``connection_test`` is ``--test``.
"""
