console.log(typeof inputData, inputData === undefined, JSON.stringify(Notary.inputText), Notary.input);
