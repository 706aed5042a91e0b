/** ApiVersions is answered the same way on every listener (net/router.ts). */
export { apiVersionsHandler } from '../../net/router.ts';
