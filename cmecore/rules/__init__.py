"""Accreditation rules as pure functions: availability, assessment, evaluation, claims."""
