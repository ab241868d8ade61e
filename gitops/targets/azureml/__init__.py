"""The Azure ML workspace target (azure-ai-ml ``MLClient``): everything that talks to a workspace."""
