// The shared fixture locations and comparisons (one definition, in src/testing.ts).
export * from '../../src/testing';
