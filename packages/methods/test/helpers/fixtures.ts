// The shared fixture locations and comparisons (one definition, in core).
export * from '@ceb/core/testing';
