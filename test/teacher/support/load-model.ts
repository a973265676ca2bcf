/** A model folder's tokenizer and chat template without an ONNX session, for tests that check prompts and tokens. */
import { createChatTemplate, type ChatTemplate } from '../../../src/teacher/chat-template.js';
import { loadModelFiles, type ModelFileOptions, type ModelFiles } from '../../../src/teacher/model-files.js';
import { ModelTokenizer } from '../../../src/teacher/tokenizer.js';

export interface LoadedModel {
  files: ModelFiles;
  modelId: string;
  tokenizer: ModelTokenizer;
  /** Undefined when tokenizer_config.json has no `chat_template`. */
  chatTemplate: ChatTemplate | undefined;
}

/** Reads a model folder (Optimum ONNX layout); loads no ONNX session. Throws MODEL_INVALID naming what is missing. */
export function loadModel(modelDir: string, options: ModelFileOptions = {}): LoadedModel {
  const files = loadModelFiles(modelDir, options);
  return { files, modelId: files.modelId, tokenizer: new ModelTokenizer(files), chatTemplate: createChatTemplate(files.tokenizerConfig) };
}
