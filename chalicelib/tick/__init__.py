"""TICKscript, Kapacitor's language: syntax (tokens, parser, AST, formatter), the pipeline model the
script builds (nodes, properties, DOT) and its execution over a state port. Split as Kapacitor splits
it: the syntax knows nothing of the pipeline, the pipeline nothing of execution."""
