// Registers tfjs's gradient functions. tfjs-core's CommonJS build (what Node loads) has
// none, and its ESM `register_all_gradients` uses directory imports that Node rejects; the
// union package's Node bundle registers them all on the shared engine.
import '@tensorflow/tfjs';
