export { WireError, isWireError, type WireErrorKind } from './errors';
export { WIRE_VERSION, MAGIC, type BatchHeader, type MessageInfo, type ViewCodecName } from './format';
export { DEFAULT_JPEG_QUALITY, DEFAULT_DEFLATE_LEVEL, viewBytesPerSample, type ViewCodecOptions } from './codecs';
export { encodeBatch, DEFAULT_ENCODE_OPTIONS, type EncodeOptions } from './encode';
export { decodeBatch, inspectMessage, gridBytesPerSample, MAX_DECODED_BYTES, type DecodeOptions, type WireBatch } from './decode';
export { sampleChecksum } from './checksum';
export { standInSample, type StandInOptions } from './stand-in';
