"""CDK stacks of tickless."""
