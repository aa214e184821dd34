console.log('x');
throw { code: 42 };
