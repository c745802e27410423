test('azurite is up for the suite', () => {
  expect(process.env.TEST_AZURITE_CONNECTION_STRING).toContain('QueueEndpoint=http://127.0.0.1:');
});
