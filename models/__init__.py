"""Tortoise models, one Tortoise app per domain, each with its own migrations package.

Keeping domains in separate apps gives each its own migration chain, so work on one domain
never produces conflicting migration heads in another. Models carry no business logic.
"""
