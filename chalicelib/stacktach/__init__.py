"""StackTach.v3 on AWS: distilled events, Winchester triggers, streams and their pipelines."""
