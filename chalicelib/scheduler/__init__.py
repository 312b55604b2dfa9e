"""InfluxDB 2.x tasks: the task option of a Flux script, the task document, its schedule and its runs.
Pure domain: storage, the scheduler Lambda and the HTTP routes build on it."""
