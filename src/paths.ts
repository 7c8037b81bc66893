// Where things are served. Better Auth's endpoints live under AUTH_BASE_PATH;
// every other module takes the prefix from here.

export const AUTH_BASE_PATH = '/api/auth';

/** The full path of a Better Auth endpoint: authPath('/sign-in/email'). */
export const authPath = (path: string) => `${AUTH_BASE_PATH}${path}`;
