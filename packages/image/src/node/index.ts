/** `@fastvlm/image/node`: what only Node can do (read a file by path). */
export { readImageFile, type ReadImageFileOptions } from './read-image-file.js';
export { describeFileError, fileKind } from './file-errors.js';
