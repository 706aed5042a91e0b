import type { Logger } from '../base/logger.ts';
import { nativeCodecReport } from '../protocol/compression/compression.ts';
import { crc32cIsNative } from '../protocol/crc32c.ts';

/**
 * Says once, at start, what this host lacks: a codec whose native module did not load is refused
 * in topic configs and answered UNSUPPORTED_COMPRESSION_TYPE on produce, so an operator should hear
 * of it before a producer does. Without @node-rs/crc32 every CRC uses the slower portable code.
 */
export function warnMissingNativeModules(logger: Logger): void {
  const report = nativeCodecReport();
  if (report.codecsUnavailable.length > 0)
    logger.warn('compression codecs unavailable: their native modules did not load', {
      codecs: report.codecsUnavailable.join(','),
      modules: report.modulesMissing.join(','),
    });
  if (!crc32cIsNative)
    logger.warn('native CRC32C (@node-rs/crc32) did not load: using the portable implementation');
}
