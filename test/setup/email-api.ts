// Runs in workerd before each test file: every email the Worker sends during
// the suite goes to the fake Resend (test/fakes/email-api.ts), never out.
import { fakeEmailApi } from '../fakes/email-api';

fakeEmailApi();
