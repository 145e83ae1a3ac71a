/** `import` and `ids`: from live state to identity files, and the live ids of users for re-keying. */
export { selectIdentities, type ImportedGroup, type ImportedUser, type ImportSelection, type ImportSkip } from './identities.js';
export { layoutFiles, slug, type Extension, type ImportFile, type SplitMode } from './layout.js';
export { renderIdentityFile, type RenderOptions } from './render.js';
export { checkImportFiles, checkImportFolder, renderImportFiles, schemaReference, writeImportFiles, type FolderOptions, type LayoutOptions, type RenderedFile } from './files.js';
export { csvField, idMap, joinIds, renderIdsCsv, renderIdsJson, renderJoinedCsv, renderJoinedJson, type IdEntry, type JoinedEntry } from './ids.js';
export { oneTarget, readLiveState, readState, type ReadOptions, type ReadState } from './live.js';
