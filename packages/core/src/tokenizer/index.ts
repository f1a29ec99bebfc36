export { ClipTokenizer, cleanCaption, START_OF_TEXT, END_OF_TEXT, bundledDir as standardVocabDir } from './clip-tokenizer';
export type { TokenizerSource, EncodeForModelOptions, ModelInput } from './clip-tokenizer';
export { htmlUnescape } from './html-entities';
export { BYTE_TO_UNICODE, UNICODE_TO_BYTE } from './bytes-to-unicode';
