// Express 4 is installed under the alias `express4` so tests can run the adapter on both majors.
declare module 'express4' {
  import express = require('express');
  export = express;
}
