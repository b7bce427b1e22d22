export {
  ADV_BLOCK_SIZE,
  ADV_DATA_SIZE,
  ADV_MAGIC1,
  ADV_MAGIC2,
  META_AREA_SIZE,
  MetaTags,
  type MetaTagName,
  advFits,
  advUsage,
  assertStorableTag,
  assertUint8,
  decodeADV,
  decodeMetaArea,
  encodeADV,
  encodeMetaArea,
  metaKeyID,
} from './adv.js';
export { MetaStore, type MetaBacking, type MetaChangeListener, type MetaStoreOptions } from './store.js';
export { MetaError, type MetaErrorCode } from './errors.js';
