// Node ESM refuses directory imports ('./gradients'), which tfjs-core's ESM build (reached
// through core's `@tensorflow/tfjs-core/dist/register_all_gradients`) uses. Under vitest
// vite resolves them; under plain Node/tsx this hook retries such an import as
// './x.js' (tfjs-core has a file gradients.js beside a folder gradients/), then as
// './x/index.js'. Registered by train-tiny.ts before anything imports @ceb/core.
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (err && err.code === 'ERR_UNSUPPORTED_DIR_IMPORT' && specifier.startsWith('.')) {
      try {
        return await next(`${specifier}.js`, context);
      } catch {
        return next(`${specifier}/index.js`, context);
      }
    }
    throw err;
  }
}
