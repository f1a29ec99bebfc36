// Fixture folder for the weight-reader tests (CLIP_FIXTURE_DIR overrides, as for the parity tests).
import { CLIP_FIXTURE_DIR } from '../../src/testing';

export const CLIP_DIR = CLIP_FIXTURE_DIR;
