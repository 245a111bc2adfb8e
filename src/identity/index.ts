export { generateIdentity, type Identity, identityFromSeed, idOfPublicKey, seedOf } from './identity.js';
export {
  defaultIdentityPath,
  type LoadedIdentity,
  loadIdentity,
  loadOrCreateIdentity,
} from './identity-file.js';
export { IdentityInUseError, identityHolder } from './identity-lock.js';
export { configDirectory, KeyFileError, SECRET_FILE_MODE } from './key-file.js';
export {
  generateNetworkSecret,
  loadNetworkKey,
  NETWORK_KEY_BYTES,
  NETWORK_KEY_FILE_ENV,
  type NetworkKey,
  networkKeyFromSecret,
  writeNetworkKeyFile,
} from './network-key.js';
